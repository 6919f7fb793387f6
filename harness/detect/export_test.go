package detect

// ChildForTests is testChild for the external tests (package detect_test),
// which render a matrix with package detectmd: that package imports detect,
// so those tests cannot be in package detect.
var ChildForTests = testChild

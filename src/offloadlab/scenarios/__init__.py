"""One sub-package per scenario; each registers its Problem and solvers on import."""

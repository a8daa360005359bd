//! The gradient-descent solver shared by `particle` and `saddle`, as GradBench
//! specifies it (their results are checked against constants, so it follows
//! the reference step by step). Generic over the float type: the nested evals
//! run it on dual numbers inside differentiated functions.

"""The grader's pytest suite: one test per case, run per submission by plugin.GradingPlugin."""

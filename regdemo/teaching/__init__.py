"""Teaching: the lessons, their measured effects, the article's experiment, exercises, sweeps, mistakes."""

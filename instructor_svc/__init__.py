"""instructor_svc: instructor accounts, courses, modules, course files and learning objectives."""

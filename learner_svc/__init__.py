"""learner_svc: learner accounts, enrollments, progress facts and quiz attempts (PostgreSQL)."""

"""orchestrator_svc: the learning flow (preferences, personalized content, quizzes, mastery, tutor, dashboard)."""

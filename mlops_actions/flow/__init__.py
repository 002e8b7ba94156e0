"""The run per event, its steps, promotion, retraining, the hand-off between the jobs and publishing."""

"""Crime harm: harm indices, harm per person, cohorts and the harm-escalation model."""

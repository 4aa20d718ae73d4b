"""Skills agents hold at a level (1 to 10) and rules require at a minimum level."""

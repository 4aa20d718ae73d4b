"""Work: routing's case projection, offers, the decision log and the timers that drive them."""

"""The embedded dev stack: real PostgreSQL and Tansu processes, and the supervisor behind `omnicase up`."""

"""Groups: the queues cases wait in, each with its routing model, offer timeout and overflow."""

"""Kafka bus on aiokafka: producer, consumer loop, topic admin."""

"""Scale-out: collectors publish normalized events to NATS JetStream; viewers and the store attach (docs/scale-out.md)."""

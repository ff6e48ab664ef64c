"""Identity-provider faults on real loopback sockets: the verifier degrades, never stalls."""

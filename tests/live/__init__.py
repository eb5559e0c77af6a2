"""Real-server test infrastructure: daphne processes, realtime-js under Node, raw protocol sockets."""

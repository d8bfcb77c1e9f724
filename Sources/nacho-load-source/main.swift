// nacho-load-source: a room server for load tests (see Sources/LoadSource).
print("skeleton")

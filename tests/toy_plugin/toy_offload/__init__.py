"""A toy scenario that lives only in the tests: N tasks, each computed locally or on one shared edge
server. It is a complete plug-in (model floor, methods, paper, plug-in module) in one folder; the
README's "Add a scenario" section walks through it."""

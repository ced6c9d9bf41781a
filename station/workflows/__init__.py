"""The bench's workflows as pure state machines: `(state, input) -> Outcome`.

No I/O here: a workflow reads cached hub data through `Lookups` and returns the events to
journal, the verdict to show and the labels to print. The core does the rest, in order:
journal commit first, feedback second.
"""

"""Local L2 order books (issue 21): the book and the venues' sync state machines."""

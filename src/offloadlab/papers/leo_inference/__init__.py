"""Paper folder of leo-inference (seed 003, LEOEdge)."""

"""Coverage: was every situation that had to be recorded recorded, in full, in time?"""

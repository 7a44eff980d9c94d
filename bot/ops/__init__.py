"""The operator's side: the running bot's status file, health, the status overview, backups.

One small module per job; none of them needs a platform token or the network.
"""

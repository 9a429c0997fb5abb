"""commit-digest's core, shared by the web (``webhook``) and worker (``workers``) processes.

Settings, database, models and migrations, push parsing, intake recording, storage, the
analysis and the nightly report job, the runtime and the ``commit-digest`` command. It
imports neither adapter; ``report`` renders plain data and imports nothing of ours.
"""

"""Grounded answers to patients' and clinicians' questions, from approved content only.

    from spinepath.qa.answer import ask
    from spinepath.qa.index import build_engine
    engine = build_engine(kb, lexicon)              # lexical; pass an encoder for hybrid retrieval
    answer = ask(engine, "will I be awake for an epidural?", audience="patient")

Pure domain code: the knowledge snapshot, the lexicon (``content/lexicon.yaml``) and any live
revisions come in as arguments; nothing here reads settings or a database. The optional dense
encoder (the packaged MiniLM model) is loaded by :mod:`spinepath.qa.dense` only when asked for.

Modules: ``lexicon`` (the lay-term lexicon's schema and checks), ``text`` (normalising, phrase
matching, typo correction, sentence splitting), ``passages`` (what may be quoted), ``index``
(BM25 and embeddings per content signature), ``retrieval`` (lexical, dense, rank fusion),
``safety`` (emergencies, scope, dose and diagnosis requests), ``answer`` (composition and the
JSON model).

Nothing is imported here: ``spinepath.knowledge.loader`` imports ``spinepath.qa.lexicon`` to check
the lexicon with the rest of the content, so this package must stay cheap and cycle-free.
"""

-- Documents of an agreement, kept as links (a URL and the label to show). Keyed by the
-- agreement's key rather than its row, because saving an agreement replaces its row and must
-- not lose its documents; the store writes them in the agreement's own transaction.
CREATE TABLE agreement_document (
    agreement_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (agreement_key, position)
) STRICT, WITHOUT ROWID;

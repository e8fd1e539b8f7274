"""An in-house audit programme: the council's own monthly practice audits, tracked with SPC charts.

In: a programme folder (programme.yaml, its audit store) and audit files. Out: checked audits in
the store, the fictional sample programme, and the tracking report (p-charts read with Making
Data Count's rules) with signals.csv, rendered through the review report's pipeline.
"""

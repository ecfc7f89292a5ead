"""The built-in subject and HTML body of alert mails (email_on_failure / email_on_retry and SmtpNotifier).

Jinja text rendered with the callback's context: a task's (``ti``, ``run_id``, ``exception`` ...) or a DAG's
(``dag``, ``dag_run``, ``reason``). Email alerts add ``alert`` (what happened), ``try_number``, ``max_tries`` and
``log_url``. Each part is guarded with ``is defined`` so one template serves both kinds of context.
"""

from __future__ import annotations

DEFAULT_SUBJECT = (
    "[Tradewind] "
    "{% if ti is defined %}task {{ ti.dag_id }}.{{ ti.task_id }}"
    "{% if ti.map_index is defined and ti.map_index >= 0 %}[{{ ti.map_index }}]{% endif %}"
    "{% else %}DAG {{ dag.dag_id }}{% endif %}"
    "{% if alert is defined %} {{ alert }}{% elif reason is defined and reason %} ({{ reason | truncate(80) }})"
    "{% endif %}, run {{ run_id }}"
    "{% if ti is defined %}, try {{ ti.try_number }}{% endif %}"
)

DEFAULT_HTML_CONTENT = """\
<p>{% if ti is defined %}Task <b>{{ ti.task_id | e }}</b>\
{% if ti.map_index is defined and ti.map_index >= 0 %} (map index {{ ti.map_index }}){% endif %} \
of DAG <b>{{ ti.dag_id | e }}</b>{% else %}DAG <b>{{ dag.dag_id | e }}</b>{% endif %}, \
run <b>{{ run_id | e }}</b>{% if alert is defined %}: {{ alert }}{% endif %}.</p>
{% if ti is defined %}<p>Try {{ ti.try_number }} of {{ ti.max_tries + 1 }}.</p>
{% endif %}\
{% if exception is defined and exception %}<p>Error:</p>
<pre>{{ exception | string | e }}</pre>
{% elif reason is defined and reason %}<p>Reason: {{ reason | e }}</p>
{% endif %}\
{% if log_url is defined and log_url %}<p><a href="{{ log_url | e }}">The log of this try</a></p>
{% endif %}\
{% if ti is defined and hostname is defined and hostname %}<p>Ran on {{ hostname | e }}.</p>
{% endif %}\
<p>Sent by Tradewind.</p>
"""

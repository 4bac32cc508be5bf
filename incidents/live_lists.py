"""Live runs and pipelines pages: after each ingested batch of runs (monitors.realtime), the page's rows are drawn
again for the filters in the websocket URL's query string (the page's own) and swapped in by id. The page's Pause
toggle (lists.js) holds them back on the client."""

from django.template.loader import render_to_string

from incidents.live import LivePageConsumer
from incidents.pages.pipelines import pipeline_list_page_for
from monitors.realtime import PIPELINE_LIST_GROUP, RUN_LIST_GROUP
from monitors.run_list_page import run_list_page


class RunListConsumer(LivePageConsumer):
    """The runs page's rows (status, search, pipeline, time range and page as the page has them)."""

    permission = "monitors.view_pipelinerun"
    push_interval = 1.0

    def groups_to_join(self) -> list[str]:
        return [RUN_LIST_GROUP]

    def render(self) -> str:
        context = {**run_list_page(params=self.params), "oob": True}
        return render_to_string("monitors/run_list.html#rows", context)


class PipelineListConsumer(LivePageConsumer):
    """The pipelines page's rows: each pipeline's latest runs, failure rate and open incidents."""

    permission = "monitors.view_pipeline"
    push_interval = 1.0

    def groups_to_join(self) -> list[str]:
        return [PIPELINE_LIST_GROUP]

    def render(self) -> str:
        context = {**pipeline_list_page_for(params=self.params), "oob": True}
        return render_to_string("monitors/pipeline_list.html#rows", context)

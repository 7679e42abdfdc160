"""A phase-diagram sweep driven over HTTP, as the Dash renderer drives it: one POST
starts the background job and returns its signed handles, then the same POST with the
handles in the query polls until the outputs (or an error message) arrive."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request

from layouts import ids
from settings import RaceSettings

SWEEP_OUTPUT = f"{ids.SWEEP_RESULT}.data"


def race_state(**changes) -> dict:
    settings = RaceSettings(**changes)
    return {"settings": settings.to_dict(), "query": settings.to_query()}


def sweep_body(callback_map: dict, page: str | None = None, resolution=8, steps=50,
               optimizer="momentum", state: dict | None = None) -> dict:
    key, spec = next((k, v) for k, v in callback_map.items() if SWEEP_OUTPUT in k
                     and any(i["id"] == ids.SWEEP_RUN for i in v["inputs"]))
    values = {ids.SWEEP_RUN: 1, ids.SWEEP_OPTIMIZER: optimizer, ids.SWEEP_METRIC: "final_loss",
              ids.SWEEP_RESOLUTION: resolution, ids.SWEEP_STEPS: steps, ids.SWEEP_LR_MIN: None,
              ids.SWEEP_LR_MAX: None, ids.SWEEP_MOMENTUM_MIN: None,
              ids.SWEEP_MOMENTUM_MAX: None, ids.RACE_STATE: state or race_state(),
              ids.THEME: "light", ids.PAGE: page or secrets.token_hex(16)}
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in key.strip(".").split("...")]
    return {"output": key, "outputs": outputs,
            "inputs": [{**item, "value": values[item["id"]]} for item in spec["inputs"]],
            "changedPropIds": [f"{ids.SWEEP_RUN}.n_clicks"],
            "state": [{**item, "value": values[item["id"]]} for item in spec["state"]]}


def post(url: str, body, query: str = "", timeout: float = 30) -> tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/_dash-update-component{query}", data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start(url: str, body: dict) -> dict:
    """The job's handles: {"cacheKey": ..., "job": ...} (signed)."""
    status, text = post(url, body)
    assert status == 200, (status, text[:300])
    return json.loads(text)


def job_id(handles: dict) -> str:
    """The job's pid (diskcache) or task id (Celery), without its signature."""
    return handles["job"].rpartition("~")[0]


def poll(url: str, body: dict, handles: dict, timeout: float = 120) -> dict:
    """Poll until the job answers: {"status": "result" | "error" | "nothing", ...}."""
    query = "?" + urllib.parse.urlencode({"cacheKey": handles["cacheKey"],
                                          "job": handles["job"]})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, text = post(url, body, query)
        if status == 204:
            return {"status": "nothing"}
        assert status == 200, (status, text[:300])
        answer = json.loads(text)
        error = answer.get("sideUpdate", {}).get(ids.SWEEP_ERROR, {}).get("children")
        if error:
            return {"status": "error", "message": error}
        if ids.SWEEP_RESULT in answer.get("response", {}):
            return {"status": "result", "response": answer["response"]}
        time.sleep(0.25)
    raise TimeoutError("the sweep did not answer")


def run(url: str, body: dict, timeout: float = 120) -> dict:
    return poll(url, body, start(url, body), timeout)

"""newsrag as a "model" for the official openai Python client, against the running app."""

from openai import OpenAI


def test_chat_completion_with_citations(newsrag_server):
    client = OpenAI(base_url=newsrag_server + "/v1", api_key="unused", max_retries=0, timeout=120)
    reply = client.chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": "How many civilians remain in Toretsk?"}])
    assert "1,400" in reply.choices[0].message.content
    citations = reply.model_extra["citations"]
    assert citations and citations[0]["article_id"] == "004_8551b460ac1e439b"


def test_streaming_chat_completion(newsrag_server):
    client = OpenAI(base_url=newsrag_server + "/v1", api_key="unused", max_retries=0, timeout=120)
    stream = client.chat.completions.create(
        model="newsrag", stream=True, messages=[{"role": "user", "content": "How many civilians remain in Toretsk?"}])
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert "1,400" in text
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_unanswerable_question_abstains(newsrag_server):
    client = OpenAI(base_url=newsrag_server + "/v1", api_key="unused", max_retries=0, timeout=120)
    reply = client.chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": "Who won the 2022 FIFA World Cup final?"}])
    assert reply.choices[0].message.content == "The archive does not say."
    assert reply.model_extra["abstained"] is True

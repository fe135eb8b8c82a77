import pytest

from tasks.data.formats import SchemaIssue, detect, metadata, to_messages


def test_alpaca_with_input() -> None:
    obj = {"instruction": "Translate", "input": "hola", "output": "hello", "category": "translate"}
    assert detect(obj) == "alpaca"
    assert to_messages(obj, "alpaca") == [
        {"role": "user", "content": "Translate\n\nhola"},
        {"role": "assistant", "content": "hello"},
    ]
    assert metadata(obj)["intent"] == "translate"


def test_messages_with_system() -> None:
    obj = {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "a"},
        ],
        "intent": "billing",
        "id": 7,
    }
    assert detect(obj) == "messages"
    assert [m["role"] for m in to_messages(obj, "messages")] == ["system", "user", "assistant"]
    assert metadata(obj) == {"intent": "billing", "id": "7"}


def test_sharegpt_roles_are_mapped() -> None:
    obj = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    assert detect(obj) == "sharegpt"
    assert to_messages(obj, "sharegpt") == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]


def test_metadata_from_nested_block() -> None:
    assert metadata({"metadata": {"intent": "roaming", "id": "x1"}}) == {"intent": "roaming", "id": "x1"}


@pytest.mark.parametrize(
    ("obj", "fmt", "message"),
    [
        ({"instruction": "x"}, "alpaca", "missing field 'output'"),
        ({"instruction": 3, "output": "y"}, "alpaca", "'instruction' must be a string, got int"),
        ({"messages": "hi"}, "messages", "must be a list of turns"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages", r"messages\[0\]\.role must be one of"),
        ({"messages": [{"role": "user", "content": None}]}, "messages", "missing field 'content'"),
        ({"messages": [{"role": "user", "content": "only a question"}]}, "messages", "one user and one assistant"),
        ({"conversations": [{"from": "human", "value": 1}]}, "sharegpt", "'value' must be a string"),
    ],
)
def test_schema_issues_name_the_field(obj: dict, fmt: str, message: str) -> None:
    with pytest.raises(SchemaIssue, match=message):
        to_messages(obj, fmt)


def test_unknown_format() -> None:
    assert detect({"question": "q", "answer": "a"}) is None

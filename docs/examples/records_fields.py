from ddbstream import App, Record

app = App()


@app.on_modify
def show(record: Record) -> None:
    print("event_name               ", record.event_name)
    print("keys                     ", record.keys)
    print("old                      ", record.old)
    print("new                      ", record.new)
    print("item                     ", record.item)
    print("diff.changed             ", record.diff.changed)
    print("diff.added               ", record.diff.added)
    print("diff.removed             ", record.diff.removed)
    print("event_id                 ", record.event_id)
    print("sequence_number          ", record.sequence_number)
    print("approximate_creation_time", record.approximate_creation_time)
    print("size_bytes               ", record.size_bytes)
    print("stream_view_type         ", record.stream_view_type)
    print("event_source_arn         ", record.event_source_arn)
    print("table_name               ", record.table_name)
    print("region                   ", record.region)
    print("is_ttl_expiry            ", record.is_ttl_expiry)
    print("raw['eventSource']       ", record.raw["eventSource"])


handler = app.handler

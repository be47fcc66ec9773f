"""Save what a table's stream holds as a Lambda event file, for `ddbstream invoke`.

python local_save_event.py http://127.0.0.1:5000 orders event.json
"""

import json
import sys

import boto3

from ddbstream.tail import to_lambda_record


def save_event(endpoint_url: str, table: str, path: str) -> int:
    """Write every record of the stream's shards to *path* as {"Records": [...]}."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint_url)
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records += [to_lambda_record(record, stream_arn) for record in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    with open(path, "w", encoding="utf-8") as file:
        json.dump({"Records": records}, file, indent=2)
    return len(records)


if __name__ == "__main__":
    print(save_event(*sys.argv[1:4]), "records saved")

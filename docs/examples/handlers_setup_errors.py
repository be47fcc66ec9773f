from ddbstream import App, Record
from ddbstream.errors import SetupError

app = App()


def archive(record: Record) -> None:
    print("archive", record.keys)


try:
    app.on("INSERT", ttl=True)(archive)  # ttl= is for REMOVE routes only
except SetupError as error:
    print(type(error).__name__, error)

try:
    app.on("INSRT")(archive)  # a typo in an event name
except SetupError as error:
    print(type(error).__name__, error)

app.handler({"Records": []}, None)  # the first invocation: the routes are now fixed
try:
    app.on_remove(archive)
except SetupError as error:
    print(type(error).__name__, error)

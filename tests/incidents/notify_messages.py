"""What the notification transport tests share: a realistic message (an ADF error quoted in full), a digest, a
hostile error text and a channel's configuration as senders receive it."""

import dataclasses

from incidents.notify.base import ChannelConfig, DigestItem, NotificationMessage

ADF_ERROR = (
    "ErrorCode=SqlFailedToConnect,'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,"
    "Message=Cannot connect to SQL Database: 'sql-prod.database.windows.net', Database: 'sales', User: 'adf_loader'. "
    "Check the linked service configuration is correct, and make sure the SQL Database firewall allows the "
    "integration runtime to access.,Source=Microsoft.DataTransfer.ClientLibrary,"
    "''Type=System.Data.SqlClient.SqlException,Message=A network-related or instance-specific error occurred while "
    "establishing a connection to SQL Server. (provider: TCP Provider, error: 0 - The wait operation timed out.),"
    "Source=.Net SqlClient Data Provider,SqlErrorNumber=258,Class=20,ErrorCode=-2146232060,State=0,'"
)
HOSTILE_ERROR = "Lookup failed <script>alert('x')</script> & <!channel> see <https://evil.example|the fix>"


def make_message(**changes) -> NotificationMessage:
    message = NotificationMessage(
        event="opened",
        headline="Incident opened",
        title="pl_sales_daily: cannot connect to sql-prod",
        severity="high",
        status="open",
        category="Connectivity",
        summary="The copy activity could not reach sql-prod.database.windows.net; the server timed out the login.",
        root_cause="The Azure SQL firewall does not allow the self-hosted integration runtime's address.",
        error=ADF_ERROR,
        pipeline="pl_sales_daily",
        connection="adf-prod",
        failed_step="Copy_SalesOrders",
        occurrences=3,
        url="https://aims.example.com/incidents/42/",
        incident_id=42,
        actions=(
            "Check that the SQL firewall allows the integration runtime",
            "Re-run pl_sales_daily once sql-prod answers",
        ),
    )
    return dataclasses.replace(message, **changes)


def make_digest(count: int) -> NotificationMessage:
    items = tuple(
        DigestItem(
            title=f"pl_load_{n} failed", event="opened", severity="medium", url=f"https://aims.example.com/i/{n}/"
        )
        for n in range(count)
    )
    return make_message(event="digest", headline=f"{count} notifications held back", url="", digest_items=items)


def make_channel_config(kind: str, url: str = "", **changes) -> ChannelConfig:
    return ChannelConfig(kind=kind, name=f"{kind} on call", url=url, **changes)

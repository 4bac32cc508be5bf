from django.urls import path

from contracts.live import ContractListConsumer, ContractPageConsumer

websocket_urlpatterns = [
    path("ws/contracts/", ContractListConsumer.as_asgi(), name="ws-contracts"),
    path("ws/contracts/<int:contract_id>/", ContractPageConsumer.as_asgi(), name="ws-contract"),
]

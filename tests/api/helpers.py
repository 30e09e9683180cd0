"""A fund with a member of each role, each with a read and a read-write API token."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from assessments.identity import tokens
from assessments.identity.models import TokenScope
from tests.security.security_world import ANON, ROLES, World, build_world


@dataclass
class ApiWorld:
    world: World
    keys: dict  # (role, scope) -> key

    def client(self, role: str, scope: str = TokenScope.READ_WRITE) -> Client:
        if role == ANON:
            return Client()
        return Client(headers={"Authorization": f"Bearer {self.keys[role, scope]}"})


def build_api_world(**text) -> ApiWorld:
    world = build_world(**text)
    keys = {}
    for role in ROLES:
        if role == ANON:
            continue
        for scope in TokenScope.values:
            _, keys[role, scope] = tokens.token_create(
                user=world.users[role], name=f"{role} {scope}", scope=scope
            )
    return ApiWorld(world, keys)

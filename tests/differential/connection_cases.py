"""Connections both sides parse and print: URIs, JSON forms, and connections built from fields."""

from __future__ import annotations

from typing import Any

URIS: list[str] = [
    "postgresql://user:pass@host:5432/db",
    "postgresql://user:pass@host:5432/db?sslmode=require",
    "postgres://us%40er:p%40ss%2Fw%3Ard@db.example.com:5433/my%2Fschema",
    "mysql://root@localhost/test",
    "my-conn-type://login:password@host:1234/schema?a=1&b=true&c=%7B%22x%22%3A+1%7D",
    "http://Host.Example.COM/path",
    "https://user:secret@api.example.com:8443",
    "aws://?region_name=eu-west-1&role_arn=arn%3Aaws%3Aiam%3A%3A123%3Arole%2Fx",
    "google-cloud-platform://?key_path=%2Fkeys%2Fkey.json&scope=",
    "sqlite:///%2Ftmp%2Fdb.sqlite",
    "ssh://user@host:22?key_file=%2Fhome%2Fu%2F.ssh%2Fid&no_host_key_check=true",
    "http://https://example.com:443/api",
    "http://h/?__extra__=%7B%22nested%22%3A+%7B%22a%22%3A+1%7D%7D",
    "smtp://user:p%20w@mail.example.com:587?from_email=a%40b.c",
    "redis://:onlypassword@cache:6379/0",
    "generic://@:8080",
    "s3://",
    "spark://spark-master:7077?deploy-mode=cluster",
    "docker://registry.example.com:5000?email=x%40y.z",
    "ftp://anonymous:@ftp.example.com",
    "wasb://account:key%3D%3D@?sas_token=abc",
    "hive-cli://localhost:10000/default?auth_mechanism=PLAIN",
]

JSONS: list[dict[str, Any]] = [
    {"conn_type": "postgres", "host": "h", "login": "l", "password": "p", "port": 5432, "schema": "s"},
    {"conn_type": "postgresql", "host": "h", "port": "5432"},
    {"conn_type": "my-type", "extra": {"key": "value", "n": 2, "nested": {"a": [1, 2]}}},
    {"conn_type": "http", "host": "https://example.com", "extra": '{"verify": false}'},
    {"conn_type": "http", "description": "described", "login": "a@b", "password": "p/w:x"},
    {"host": "no-type"},
    {"conn_type": "aws", "extra": {"region_name": "eu-west-1"}},
]

#: Connections built from fields: their URI (and the URI parsed back).
FIELDS: list[dict[str, Any]] = [
    {
        "conn_type": "postgres",
        "host": "h",
        "login": "u@x",
        "password": "p:/ w",
        "port": 5432,
        "schema": "d/b",
    },
    {"conn_type": "google_cloud_platform", "extra": '{"project": "p"}'},
    {"conn_type": "http", "host": "https://example.com", "login": "u"},
    {"conn_type": "http", "host": "http://example.com"},
    {"conn_type": "generic", "port": 8080},
    {"conn_type": "generic", "extra": '{"a": 1, "b": "x"}'},
    {"conn_type": "generic", "schema": "s", "extra": '{"a": "1", "b": ""}'},
    {"conn_type": "generic", "password": ""},
    {"conn_type": "ssh", "login": "", "host": "h"},
]

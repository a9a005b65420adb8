from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Query

from . import config
from .config import AppSettings, DatabaseSettings, LegacyConfig, Pagination, lazy_db_settings, load_settings
from .settings_pkg import ServiceSettings, factory
from .settings_pkg.derived import Alias, Limits, limits


@lru_cache
def get_settings() -> AppSettings:  # expect: FDL203
    return AppSettings()


@lru_cache
def get_db_settings():  # expect: FDL203
    settings = DatabaseSettings()
    return settings


async def get_settings_async() -> AppSettings:  # expect: FDL203
    return config.AppSettings()


@lru_cache
def get_settings_via_helper() -> AppSettings:  # expect: FDL203
    return load_settings()


@lru_cache
def get_legacy_config() -> LegacyConfig:  # expect: FDL203
    return LegacyConfig()


# --- look-alikes that stay silent ------------------------------------------------------------


def get_module_settings() -> AppSettings:
    return config.settings


def get_cached_settings() -> AppSettings:
    return config.load_settings_cached()


def get_lazy_db_settings() -> DatabaseSettings:
    return lazy_db_settings()


def get_pagination(limit: int = 10) -> Pagination:
    return Pagination(limit=limit)


def get_prefixed(prefix: Annotated[str, Query()] = "") -> AppSettings:
    # built from the request's own values: per-request by design
    return AppSettings(_env_prefix=prefix)


def get_db_settings_cached() -> DatabaseSettings:
    return config.get_cached_db_settings()


# --- settings classes in modules the pre-scan skipped ------------------------------------------


@lru_cache
def get_service_settings():  # expect: FDL203
    return ServiceSettings()


@lru_cache
def get_aliased_settings():  # expect: FDL203
    return Alias()


def get_limits() -> Limits:
    return Limits()


def get_limits_via_function() -> Limits:
    return limits()


@lru_cache
def get_via_factory():  # expect: FDL203
    return factory.build_service_settings()


def get_region() -> str:
    return factory.read_region()

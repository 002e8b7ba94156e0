"""The JSON GitHub's REST API answers with, as far as mlops-actions reads it.

Each TypedDict names the fields the client and its callers use; GitHub sends more.
"""

from __future__ import annotations

from typing import Literal, TypedDict

StatusState = Literal["error", "failure", "pending", "success"]


MAX_ASSET_SIZE = 2 * 1024**3  # GitHub refuses release assets of 2 GiB or more


class User(TypedDict):
    login: str
    id: int
    type: str


class Repository(TypedDict):
    id: int
    node_id: str
    name: str
    full_name: str
    private: bool
    html_url: str
    default_branch: str


class IssueComment(TypedDict):
    id: int
    node_id: str
    body: str
    html_url: str
    user: User | None
    created_at: str
    updated_at: str


class CommitComment(TypedDict):
    id: int
    node_id: str
    body: str
    html_url: str
    commit_id: str
    user: User | None
    created_at: str
    updated_at: str


class CommitStatus(TypedDict):
    id: int
    node_id: str
    state: StatusState
    context: str
    description: str | None
    target_url: str | None
    created_at: str
    updated_at: str


class GitObject(TypedDict):
    sha: str
    type: str
    url: str


class GitRef(TypedDict):
    ref: str
    node_id: str
    url: str
    object: GitObject


class GitTag(TypedDict):
    sha: str
    node_id: str
    tag: str
    message: str
    url: str
    object: GitObject


class ReleaseAsset(TypedDict):
    id: int
    node_id: str
    name: str
    label: str | None
    content_type: str
    size: int
    state: str
    url: str
    browser_download_url: str


class Release(TypedDict):
    id: int
    node_id: str
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    html_url: str
    url: str
    upload_url: str
    assets: list[ReleaseAsset]


class PullBranch(TypedDict):
    label: str
    ref: str
    sha: str
    repo: Repository | None  # None when the fork was deleted


class PullRequest(TypedDict):
    id: int
    node_id: str
    number: int
    state: str
    title: str
    body: str | None
    html_url: str
    head: PullBranch
    base: PullBranch


class Label(TypedDict):
    id: int
    name: str


class Issue(TypedDict):
    id: int
    node_id: str
    number: int
    state: str
    title: str
    body: str | None
    html_url: str
    labels: list[Label]
    created_at: str
    updated_at: str
    closed_at: str | None

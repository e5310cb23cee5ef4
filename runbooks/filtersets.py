"""The library's lists: one FilterSet per model, a `q` search, the state in the URL."""

from __future__ import annotations

import django_filters as df
from django import forms

from cases.choices import Category

from . import selectors
from .choices import ArticleCategory, KnownIssueStatus
from .models import Article, KnownIssue, Runbook

W = {"class": "input"}


class RunbookFilterSet(df.FilterSet):
    q = df.CharFilter(
        method="filter_noop",
        label="Search",
        widget=forms.TextInput(attrs={**W, "type": "search", "placeholder": "Search runbooks…"}),
    )
    category = df.ChoiceFilter(
        choices=Category.choices, method="filter_noop", empty_label="any category", widget=forms.Select(attrs=W)
    )
    tag = df.CharFilter(method="filter_noop", widget=forms.TextInput(attrs={**W, "placeholder": "tag"}))
    review_due = df.BooleanFilter(method="filter_noop", label="Review due", widget=forms.CheckboxInput())

    class Meta:
        model = Runbook
        fields = []

    def filter_noop(self, qs, name, value):
        return qs

    @property
    def qs(self):
        data = self.form.cleaned_data if self.is_valid() else {}
        return selectors.runbook_search(
            data.get("q") or "",
            category=data.get("category") or "",
            tag=(data.get("tag") or "").strip().lower(),
            review_due=bool(data.get("review_due")),
        )


class ArticleFilterSet(df.FilterSet):
    q = df.CharFilter(
        method="filter_noop",
        label="Search",
        widget=forms.TextInput(attrs={**W, "type": "search", "placeholder": "Search articles…"}),
    )
    category = df.ChoiceFilter(
        choices=ArticleCategory.choices, method="filter_noop", empty_label="any category", widget=forms.Select(attrs=W)
    )

    class Meta:
        model = Article
        fields = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def filter_noop(self, qs, name, value):
        return qs

    @property
    def qs(self):
        data = self.form.cleaned_data if self.is_valid() else {}
        return selectors.article_search(data.get("q") or "", category=data.get("category") or "", user=self.user)


class KnownIssueFilterSet(df.FilterSet):
    status = df.ChoiceFilter(choices=KnownIssueStatus.choices, empty_label="any status", widget=forms.Select(attrs=W))

    class Meta:
        model = KnownIssue
        fields = ["status"]

from __future__ import annotations

from django import forms

from .choices import TEXT_MAX


class EscalateForm(forms.Form):
    component = forms.TypedChoiceField(coerce=int, empty_value=None, choices=())
    title = forms.CharField(max_length=250)
    ticket = forms.CharField(max_length=300, label="1. Ticket id and link")
    account = forms.CharField(
        max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}), label="2. Customer account"
    )
    reproduction = forms.CharField(
        max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4}), label="3. Reproduction steps"
    )
    errors = forms.CharField(
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="4. Error messages and logs",
    )
    occurrences = forms.CharField(
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="5. Timestamps of occurrences",
    )
    affected_customers = forms.IntegerField(min_value=1, max_value=1_000_000, label="6. Number of affected customers")
    impact = forms.CharField(
        max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3}), label="7. Impact assessment"
    )
    tried = forms.CharField(
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="8. What has already been tried",
    )

    def __init__(self, *args, components=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["component"].choices = [("", "Choose the component…")] + [
            (c.pk, f"{c.name} — {c.team.name if c.team else 'no team'}") for c in components
        ]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "input")


class DecideForm(forms.Form):
    to = forms.CharField(max_length=20)
    reason = forms.CharField(max_length=TEXT_MAX, required=False)
    version = forms.IntegerField(required=False)


class TextForm(forms.Form):
    body = forms.CharField(max_length=TEXT_MAX)


class FeedbackForm(forms.Form):
    theme = forms.TypedChoiceField(coerce=int, empty_value=None, choices=(), label="Theme (taxonomy tag)")
    title = forms.CharField(max_length=250)
    segment = forms.CharField(max_length=40, label="1. Customer segment")
    tier = forms.CharField(max_length=40, label="Tier")
    industry = forms.CharField(max_length=80, required=False, label="Industry")
    use_case = forms.CharField(max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}), label="2. Use case")
    workaround = forms.CharField(
        max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2}), label="3. Current workaround"
    )
    business_impact = forms.CharField(
        max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}), label="4. Business impact for the customer"
    )
    similar_requests = forms.IntegerField(min_value=0, max_value=1_000_000, label="5. Similar requests")

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [("", "Choose the theme…")] + [(t.pk, t.name) for t in tags]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "input")

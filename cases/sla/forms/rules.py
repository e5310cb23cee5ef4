"""The selection rule form: position, segment, support tier → policy (one row of the rules table)."""

from __future__ import annotations

from django import forms

from tenants.choices import Segment, SupportTier

from ...models import SLAPolicy, SLAPolicyRule


class RuleForm(forms.ModelForm):
    class Meta:
        model = SLAPolicyRule
        fields = ["position", "segment", "support_tier", "policy"]
        labels = {"support_tier": "Support tier"}

    def __init__(self, *args, form_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"] = forms.IntegerField(
            min_value=1,
            max_value=32767,
            initial=self.fields["position"].initial,
            error_messages={"min_value": "A position from 1 up.", "max_value": "At most 32767."},
            widget=forms.NumberInput(attrs={"class": "input input-narrow", "min": 1}),
        )
        self.fields["segment"] = forms.ChoiceField(
            choices=[("", "any segment")] + list(Segment.choices),
            required=False,
            widget=forms.Select(attrs={"class": "input"}),
        )
        self.fields["support_tier"] = forms.ChoiceField(
            label="Support tier",
            choices=[("", "any tier")] + list(SupportTier.choices),
            required=False,
            widget=forms.Select(attrs={"class": "input"}),
        )
        self.fields["policy"].queryset = SLAPolicy.objects.order_by("name")
        self.fields["policy"].empty_label = "— choose a policy —"
        self.fields["policy"].widget.attrs["class"] = "input"
        self.fields["policy"].error_messages["required"] = "Choose the policy this rule selects."
        if form_id:  # the fields sit in table cells, the <form> elsewhere in the row
            for field in self.fields.values():
                field.widget.attrs["form"] = form_id

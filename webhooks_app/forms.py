from django import forms


class WebhookUrlForm(forms.Form):
    # The management API validates too, and its field errors are shown here the same way; this
    # catches the obvious mistakes without a round trip.
    url = forms.CharField(
        label="URL",
        max_length=2048,
        strip=True,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/autoql", "autocomplete": "url"}),
        error_messages={
            "required": "Enter the URL of your webhook receiver.",
            "max_length": "The URL is longer than 2048 characters.",
        },
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("The URL must start with http:// or https://.")
        return url

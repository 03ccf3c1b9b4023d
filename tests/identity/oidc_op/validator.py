from oauth2_provider.oauth2_validators import OAuth2Validator


class CampusValidator(OAuth2Validator):
    """The claims a campus OP sends: names, email, and the person's groups."""

    oidc_claim_scope = None  # every claim, whatever the scopes

    def get_additional_claims(self, request):
        user = request.user
        return {
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "email": user.email,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }

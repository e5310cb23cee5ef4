import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from cases.choices import Category, Environment, IssueType, Priority, Status
from cases.models import Attachment, Case, Interaction, SavedView, Tag, Team
from tenants.choices import Segment, SupportTier
from tenants.models import Requester, Resource, Tenant
from tenants.services import tenant_grant

User = get_user_model()


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    segment = Segment.SMB
    support_tier = SupportTier.STANDARD


class RequesterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requester

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Requester {n}")
    email = factory.Sequence(lambda n: f"requester{n}@example.com")


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    tenant = factory.SubFactory(TenantFactory)
    external_id = factory.Sequence(lambda n: f"svc-{n}")
    kind = "api"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@companyos.example")
    password = factory.PostGenerationMethodCall("set_password", "pw-12345!")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))

    @factory.post_generation
    def tenants(self, create, extracted, **kwargs):
        if create and extracted:
            for tenant in extracted:
                tenant_grant(tenant=tenant, user_or_group=self)
        if create:
            self.save()


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"tag-{n}")


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    requester = factory.SubFactory(RequesterFactory, tenant=factory.SelfAttribute("..tenant"))
    subject = factory.Sequence(lambda n: f"Case subject {n}")
    description = "The customer describes the problem."
    status = Status.NEW
    priority = Priority.MEDIUM
    category = Category.OTHER
    issue_type = IssueType.QUESTION
    environment = Environment.UNKNOWN

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)

    @factory.post_generation
    def report_rollup(self, create, extracted, **kwargs):
        """The factory writes the row around the case services, so it marks the reports' rollup of
        the case's day stale as they would (cases.reports.rollup)."""
        if create:
            from cases.reports.rollup import mark_dirty

            mark_dirty(self.created_at)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    case = factory.SubFactory(CaseFactory)
    kind = Interaction.Kind.NOTE
    body = "note"


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    case = factory.SubFactory(CaseFactory)
    file = factory.django.FileField(filename="trace.log", data=b"GET /v1/orders 500\n")
    filename = "trace.log"
    content_type = "text/plain"
    size = factory.LazyAttribute(lambda a: a.file.size)


class SavedViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedView

    name = factory.Sequence(lambda n: f"View {n}")
    query = "status=open"
    shared = True

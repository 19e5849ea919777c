from __future__ import annotations

from django.db import models
from django.db.models import Q


class Kiosk(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "In service"
        MAINTENANCE = "maintenance", "Maintenance"
        DISABLED = "disabled", "Disabled"

    name = models.CharField(max_length=100, unique=True)
    location = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cassette(models.Model):
    """Notes of one denomination loaded in a kiosk. Changed only under a lock on the kiosk row."""

    kiosk = models.ForeignKey(Kiosk, on_delete=models.CASCADE, related_name="cassettes")
    denomination = models.PositiveIntegerField(help_text="Note value in whole currency units.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["kiosk", "-denomination"]
        constraints = [
            models.UniqueConstraint(fields=["kiosk", "denomination"], name="cassette_one_per_denomination"),
            models.CheckConstraint(condition=Q(count__gte=0), name="cassette_count_not_negative"),
            models.CheckConstraint(condition=Q(denomination__gt=0), name="cassette_denomination_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.denomination}"

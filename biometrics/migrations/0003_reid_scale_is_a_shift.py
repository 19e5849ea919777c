from django.db import migrations, models


class Migration(migrations.Migration):
    """The second model's per-template cohort term is a shift (added to the distance) since reid_version /2,
    no longer a scale (a divisor): the column is named for what it holds."""

    dependencies = [("biometrics", "0002_face_template_second_model")]

    operations = [
        migrations.RenameField(model_name="facetemplate", old_name="reid_scale", new_name="reid_shift"),
        migrations.AlterField(
            model_name="facetemplate",
            name="reid_shift",
            field=models.FloatField(
                blank=True,
                help_text=(
                    "Per-template cohort shift, fixed at enrolment against a cohort of other faces and added to "
                    "the second model's distance (read under reid_version)."
                ),
                null=True,
            ),
        ),
    ]

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitors", "0012_maintenance_window_from_incidents")]

    operations = [migrations.AlterModelTable(name="maintenancewindow", table=None)]

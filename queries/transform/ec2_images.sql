-- ec2_images for this run: every AMI described, as extracted.
SELECT * FROM ec2_images_extracted

"""社区版 / 乡村版个人信用积分: 以服务换积分, 以积分换服务, and year-end ratings that reach the score as records."""

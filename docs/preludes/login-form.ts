// Hidden prelude of doc blocks marked `<!-- prelude: login-form -->`: what a login request carried.
declare const email: string;
declare const password: string;
declare const ip: string;
